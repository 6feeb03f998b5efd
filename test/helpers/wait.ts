/** Polls `cond` every `everyMs` until it holds, or rejects after `ms` with the tail of `diag()`. */
export function waitUntil(what: string, ms: number, cond: () => boolean, diag: () => string = () => '', everyMs = 10): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const t = setInterval(() => {
      if (cond()) {
        clearInterval(t);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(t);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}\n${diag().slice(-3000)}`));
      }
    }, everyMs);
  });
}
