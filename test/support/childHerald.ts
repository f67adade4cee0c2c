import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Herald as a real child process (`src/main.ts`), as `npm start` runs it; resolves once it listens. */
export async function spawnHerald(env: Record<string, string>, role = 'all'): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null>; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], { cwd: root, env: { ...process.env, HERALD_PORT: '0', HERALD_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`herald did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on\s+(http:\/\/\S+)/.exec(output);
      if (match?.[1] || (role !== 'all' && role !== 'api' && output.includes('is running'))) {
        clearTimeout(timer);
        resolve(match?.[1] ?? '');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`herald exited with ${code} before listening:\n${output}`)));
  });
  child.stdout.resume();
  child.stderr.resume();
  return { child, url, exited, output: () => output };
}
