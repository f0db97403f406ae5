/**
 * The simulators are not part of the product: the production build (tsconfig.build.json,
 * `npm run build`) compiles no file of dev/, while the development build `npm start` makes
 * (tsconfig.dev.json) has them, where src/app/devProviders.ts loads them from.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../helpers/build.js';

function programFiles(project: string): Promise<string[]> {
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [tsc, '-p', path.join(ROOT, project), '--listFilesOnly'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tsc -p ${project} --listFilesOnly failed: ${stderr}${stdout}`));
      else resolve(stdout.split('\n').filter((f) => f && !f.includes('/node_modules/')).map((f) => path.relative(ROOT, f)));
    });
  });
}

describe('builds: the simulators stay out of the product', function () {
  this.timeout(60_000);

  it('the production build compiles the service and no file of dev/', async () => {
    const files = await programFiles('tsconfig.build.json');
    expect(files).to.include('src/cli/server.ts');
    expect(files).to.include('src/app/devProviders.ts');
    expect(files.filter((f) => f.startsWith('dev/'))).to.deep.equal([]);
  });

  it('the development build has the simulators where the service loads them from', async () => {
    const files = await programFiles('tsconfig.dev.json');
    expect(files).to.include('dev/notification-simulators/devProviders.ts');
    const source = readFileSync(path.join(ROOT, 'src/app/devProviders.ts'), 'utf8');
    // the simulators, the development PKI publisher and the development OpenID provider
    const specs = [...source.matchAll(/new URL\('([^']+)', import\.meta\.url\)/g)].map((m) => m[1]!);
    expect(specs, 'the dynamic imports of src/app/devProviders.ts').to.have.length(3);
    for (const spec of specs) {
      const target = path.resolve(ROOT, 'src/app', spec).replace(/\.js$/, '.ts');
      expect(existsSync(target), target).to.equal(true);
      expect(files).to.include(path.relative(ROOT, target));
    }
  });
});
