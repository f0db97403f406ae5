/**
 * Worker ids and the start-up rule that gives back the jobs of a worker that is gone
 * (src/worker/workerId.ts): only a worker on this host and in this pid namespace can be
 * checked with `kill(pid, 0)`; on SQLite anything not provably alive is an earlier run.
 */
import { expect } from 'chai';
import { formatWorkerId, LOCAL, newWorkerId, parseWorkerId, processAlive, workerGone } from '../../src/worker/workerId.js';

const errno = (code: string) => Object.assign(new Error(code), { code });

describe('worker identity', () => {
  it('names the host, the pid and the pid namespace of its process', () => {
    const id = newWorkerId();
    expect(parseWorkerId(id)).to.deep.include({ host: LOCAL.host, pid: process.pid, scope: LOCAL.scope });
    expect(newWorkerId()).to.not.equal(id);
    expect(id.length).to.be.at.most(100); // jobs.locked_by
  });

  it('reads no other shape of id', () => {
    for (const id of ['w-local', 'host:123:abcdef01', 'host:0:abcdef01:abcdef01', 'host:-1:abcdef01:abcdef01', 'host:12:ABCDEF01:abcdef01', 'a:b:c:d:e']) {
      expect(parseWorkerId(id), id).to.equal(undefined);
    }
  });

  it('takes a process that may not be signalled (EPERM) as alive, and only ESRCH as gone', () => {
    const throwing = (code: string) => () => {
      throw errno(code);
    };
    expect(processAlive(1234, () => true)).to.equal(true);
    expect(processAlive(1234, throwing('EPERM'))).to.equal(true);
    expect(processAlive(1234, throwing('ESRCH'))).to.equal(false);
    // 0 and negative pids name process groups: never signalled, never alive
    let called = false;
    for (const pid of [0, -1, 1.5, Number.NaN]) expect(processAlive(pid, () => (called = true))).to.equal(false);
    expect(called).to.equal(false);
  });

  describe('whether a worker is gone', () => {
    const tag = '0123abcd';
    const here = (pid: number) => formatWorkerId({ host: LOCAL.host, pid, scope: LOCAL.scope, tag });
    const otherScope = LOCAL.scope === 'ffffffff' ? 'eeeeeeee' : 'ffffffff';
    const cases: Array<[string, string, { postgres: boolean; sqlite: boolean }]> = [
      ['a dead process here', here(4242), { postgres: true, sqlite: true }],
      ['a live process here', here(4343), { postgres: false, sqlite: false }],
      ['an earlier process with our pid', here(process.pid), { postgres: true, sqlite: true }],
      ['a live runner of this process', 'live-runner', { postgres: false, sqlite: false }],
      ['a worker on another host', formatWorkerId({ host: `x${LOCAL.host}`, pid: 4242, scope: LOCAL.scope, tag }), { postgres: false, sqlite: true }],
      ['a worker in another pid namespace', formatWorkerId({ host: LOCAL.host, pid: 4242, scope: otherScope, tag }), { postgres: false, sqlite: true }],
      ['an id of another shape', 'w-local', { postgres: false, sqlite: true }],
    ];
    const alive = (pid: number) => pid === 4343;
    for (const [what, id, gone] of cases) {
      it(`${what}: ${gone.postgres ? 'gone' : 'not known gone'} on PostgreSQL, ${gone.sqlite ? 'gone' : 'not known gone'} on SQLite`, () => {
        const liveHere = new Set(['live-runner']);
        expect(workerGone(id, { liveHere, singleProcess: false, processAlive: alive })).to.equal(gone.postgres);
        expect(workerGone(id, { liveHere, singleProcess: true, processAlive: alive })).to.equal(gone.sqlite);
      });
    }
  });
});
