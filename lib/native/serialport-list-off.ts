/** Stands in for serialport's `linux-list` in bundles: the tools open a named device and never list ports, and listing loads child_process. */
export function linuxList(): never {
  throw new Error('listing serial ports is not part of these tools');
}
