/**
 * vitest global setup: when the run ends, repeats which suites vitest.config.ts left out on this
 * machine and why (a server that does not answer), so a green run on a machine without Redis
 * does not read as a full one.
 */
export default function setup(): () => void {
  return () => {
    const skipped = JSON.parse(process.env['SPANE_SKIPPED_SUITES'] ?? '[]') as string[];
    if (skipped.length === 0) return;
    console.warn(`\n[spane tests] NOT RUN on this machine (${skipped.length}):\n  ${skipped.join('\n  ')}\n`);
  };
}
