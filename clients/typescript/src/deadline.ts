/**
 * What `promise` settles with, if it settles within `ms`: `{ value }`, or its rejection; `undefined` if it has not by
 * then, and it is no longer waited for (its later rejection is not reported as unhandled).
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<{ readonly value: T } | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  promise.catch(() => undefined);
  try {
    return await Promise.race([
      promise.then((value) => ({ value })),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
