/**
 * How the CLI prints sizes and rates for people (the backup commands, ops diagnose): whole
 * bytes below 1 KiB, else one decimal in binary units (`17 B`, `3.2 MiB`, `41.5 MiB/s`). Exact
 * byte counts stay where they are evidence (JSON output, a size mismatch, a file that changed
 * during the copy).
 */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  for (let i = 0; ; i++) {
    const shown = i === 0 ? String(Math.round(value)) : value.toFixed(1);
    // 1023.6 B is shown as 1.0 KiB, not 1024 B.
    if (Number(shown) < 1024 || i === UNITS.length - 1) return `${shown} ${UNITS[i]}`;
    value /= 1024;
  }
}

/** `426 B/s`; undefined when nothing was timed or nothing moved. */
export function formatRate(bytes: number, ms: number): string | undefined {
  return ms > 0 && bytes > 0 ? `${formatBytes((bytes / ms) * 1000)}/s` : undefined;
}

/** `17 B, 426 B/s`, or `17 B` without a rate. */
export function formatSizeAndRate(bytes: number, ms: number): string {
  const rate = formatRate(bytes, ms);
  return rate ? `${formatBytes(bytes)}, ${rate}` : formatBytes(bytes);
}
