/** Runs a load generator from bench/ as a separate Node process and returns the JSON it prints. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Resolves with the last JSON line the generator prints; `onLine` sees each line as it comes (progress, early signals). */
export function runLoad<T>(script: 'loadIngest.ts' | 'loadOpen.ts', args: object, onLine?: (line: unknown) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `bench/${script}`, JSON.stringify(args)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let seen = 0;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (!onLine) return;
      for (let end = out.indexOf('\n', seen); end >= 0; end = out.indexOf('\n', seen)) {
        const line = out.slice(seen, end);
        seen = end + 1;
        try {
          onLine(JSON.parse(line));
        } catch {
          // not a JSON line: only the summary matters, and it is checked at the end
        }
      }
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last) return reject(new Error(`bench/${script} exited with ${code}: ${err.trim() || out.trim()}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`bench/${script} printed no JSON: ${last}`));
      }
    });
  });
}
