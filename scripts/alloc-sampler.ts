/**
 * Preloaded into a benchmarked server by `BENCH_ALLOC_PROFILE_DIR=dir` (bench-lib startServer,
 * `node --import`): V8's sampling heap profiler over the whole run, collected objects
 * included, so the profile counts every allocation (the garbage too), not only what is alive
 * at the end, which is what `node --heap-prof` records. One sample per 8 KiB allocated on
 * average. Written when the process exits, as `alloc-<pid>.heapprofile` (Chrome DevTools'
 * Memory tab opens it; `node dist/scripts/alloc-report.js` sums it).
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_ALLOC_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  // a session in the process's own thread answers at once, so this runs to its end in 'exit'
  process.on('exit', () => {
    session.post('HeapProfiler.getSamplingProfile', (err, result) => {
      if (!err) fs.writeFileSync(path.join(dir, `alloc-${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  });
}
