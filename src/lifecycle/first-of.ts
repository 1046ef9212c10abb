/** Resolves on the first of several events, with which one it was. */
export function firstOf<T extends Record<string, Promise<unknown>>>(
  races: T,
): Promise<{ [K in keyof T]: { which: K; value: Awaited<T[K]> } }[keyof T]> {
  return Promise.race(
    Object.entries(races).map(([which, promise]) => promise.then((value) => ({ which, value }) as never)),
  );
}
