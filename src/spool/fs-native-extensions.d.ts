// The few functions of fs-native-extensions we use (the package ships no types).
declare module 'fs-native-extensions' {
  /** Non-blocking exclusive (or shared) OFD lock on a whole file; false when another holds it. */
  export function tryLock(
    fd: number,
    offset?: number,
    length?: number,
    options?: { shared?: boolean },
  ): boolean;
  export function unlock(fd: number, offset?: number, length?: number): void;
}
