import { useEffect, useState } from 'preact/hooks';
import { ApiError, get } from './api.js';

/** A GET of the API, loaded at once and again every `everyMs` while the view is open. */
export function usePoll<T>(path: string, everyMs: number): { data: T | null; error: ApiError | Error | null } {
  const [state, setState] = useState<{ data: T | null; error: ApiError | Error | null }>({ data: null, error: null });
  useEffect(() => {
    let live = true;
    const load = () => get<T>(path).then((data) => { if (live) setState({ data, error: null }); }).catch((error: Error) => { if (live) setState((s) => ({ data: s.data, error })); });
    load();
    const timer = setInterval(load, everyMs);
    return () => { live = false; clearInterval(timer); };
  }, [path, everyMs]);
  return state;
}
