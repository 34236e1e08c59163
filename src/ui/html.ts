import { h } from 'preact';
import htm from 'htm';

/** Tagged templates that build Preact elements: no JSX, no compile step beyond bundling. */
export const html = htm.bind(h);
