// Locale-free string order (UTF-16 code units): the same on every host, so hashes and listings
// do not depend on the locale, and no ICU collation data is paged in.
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
