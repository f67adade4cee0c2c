/** Runs a script of bench/ (a load generator, the replay) as a separate Node process and returns the JSON it prints. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface ChildOptions {
  /** Node options before the script (V8 heap settings). */
  nodeOptions?: readonly string[];
  /** Sees each line of stdout as it comes (progress, early signals). */
  onLine?: (line: unknown) => void;
  /** Passes the child's stderr through (its progress bars) as well as keeping it for an error. */
  showStderr?: boolean;
}

/** Resolves with the last JSON line the script prints. */
export function runBenchProcess<T>(script: 'loadIngest.ts' | 'loadOpen.ts' | 'replayProcess.ts', args: object, options: ChildOptions = {}): Promise<T> {
  const { nodeOptions = [], onLine, showStderr = false } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', `bench/${script}`, JSON.stringify(args)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
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
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      if (showStderr) process.stderr.write(c);
    });
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

/**
 * The Node options `npm run replay` runs with, read from package.json's `replay` script (the
 * options between `tsx` and the script), so that the benchmark's replay runs as users run it and
 * the two cannot drift apart.
 */
export function replayNodeOptions(): string[] {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const words = (scripts.replay ?? '').split(/\s+/);
  const script = words.indexOf('src/cli/replay.ts');
  if (words[0] !== 'tsx' || script < 0) throw new Error(`package.json's replay script is not "tsx [node options] src/cli/replay.ts": ${JSON.stringify(scripts.replay)}; update replayNodeOptions in src/cli/bench/children.ts`);
  return words.slice(1, script);
}
