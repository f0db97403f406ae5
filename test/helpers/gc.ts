/** Counting the garbage collections a test's work forced (src/store/YoungGarbage.ts). */
import { constants, PerformanceObserver } from 'node:perf_hooks';

/** The young-generation collections forced while `work` runs (the entries come a turn later). */
export async function forcedYoungCollections(work: () => Promise<void> | void): Promise<number> {
  let n = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const { kind, flags } = (e as PerformanceEntry & { detail: { kind: number; flags: number } }).detail;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR && (flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0) n++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    await work();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    observer.disconnect();
  }
  return n;
}
