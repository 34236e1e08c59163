import type { Wiring } from '../extensions.js';

/** Not built yet: see the issue that owns this layer. */
export const wireController: Wiring = async () => undefined;
