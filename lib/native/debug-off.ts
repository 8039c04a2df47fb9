/** Stands in for `debug` in bundles: serialport's trace logging is off and costs no start-up time. */
export default function createDebug(): (...args: unknown[]) => void {
  return () => undefined;
}
