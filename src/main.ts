import { parseArgs } from 'node:util';
import { loadConfig } from './config.ts';
import { ConfigError } from './configError.ts';
import { createLogger } from './logger.ts';
import { startHerald } from './service.ts';
import { STOP_BACKSTOP_MS, StopDeadlineError } from './stopDeadline.ts';

/** A signal this soon after the first is the same one relayed by a parent process, not an operator's second. */
const RELAYED_SIGNAL_MS = 250;

const USAGE = `usage: herald [all|api|worker|projector] [--channels push,sms,email]
  all        everything in one process (the default; npm start runs it)
  api        the HTTP API
  worker     the delivery workers; --channels picks which (default: every one)
  projector  the read models
Roles other than all need EventStoreDB and MongoDB. Everything else is set by environment
variables (HERALD_*): see the README's Configuration section.`;

/** The command line, or a ConfigError that says what is wrong with it. */
function args(): { role: string | undefined; channels: string | undefined; help: boolean } {
  try {
    const { positionals, values } = parseArgs({ allowPositionals: true, options: { channels: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
    if (positionals.length > 1) throw new ConfigError(`one role at a time, not ${positionals.join(' ')}\n${USAGE}`);
    return { role: positionals[0], channels: values.channels, help: values.help === true };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${error instanceof Error ? error.message.split('. ')[0] : String(error)}\n${USAGE}`);
  }
}

/** `herald [all|api|worker|projector] [--channels push,sms,email]`: start, print the banner, stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const { role, channels, help } = args();
  if (help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig(process.env, role ?? 'all', channels);
  const logger = createLogger(config.logLevel);
  const herald = await startHerald(config, logger);
  // From here on a signal stops Herald cleanly: a supervisor (or a test) may send one the moment
  // the banner appears, before this function has run to its end.
  let stoppingSince: number | undefined;
  const shutdown = (signal: string) => {
    if (stoppingSince !== undefined) {
      // The same signal relayed: `npm start` runs Herald under tsx's CLI, which passes a SIGTERM
      // on to it, and a supervisor that signals the whole process group (systemd's default) makes
      // that two SIGTERMs a few milliseconds apart. Only a later one is an operator's second.
      if (performance.now() - stoppingSince < RELAYED_SIGNAL_MS) return;
      // A second signal (Ctrl-C again) is an operator who will not wait for the calls in flight.
      logger.warn({ signal }, 'stopping at once: deliveries in flight are handed out again on the next start, so some may be sent twice');
      process.exit(130);
    }
    stoppingSince = performance.now();
    logger.info({ signal, deadlineMs: config.stopTimeoutMs }, 'stopping: no new requests, finishing in-flight deliveries');
    // The stop bounds its parts by the deadline itself; this bounds what it does not (a store's close that hangs).
    setTimeout(() => {
      // Said as it is: the stores still closing have not written their last checkpoints (SQLite
      // recovers events.db from its WAL at the next start; the groups' checkpoints saved before stand).
      logger.error(
        { deadlineMs: config.stopTimeoutMs, pastDeadlineMs: STOP_BACKSTOP_MS },
        'the stop is still not done well past its deadline: exiting without it, with the stores that were still closing not closed (their last checkpoints not written: the WAL is recovered at the next start, and the events handed out since the groups\' last saved checkpoints are handed out again)',
      );
      process.exit(1);
    }, config.stopTimeoutMs + STOP_BACKSTOP_MS).unref();
    herald.stop().then(
      () => {
        logger.info('stopped cleanly: every delivery in flight finished or handed back, checkpoints written');
        process.exit(0);
      },
      (error: unknown) => {
        if (error instanceof StopDeadlineError) {
          logger.error({ deadlineMs: error.deadlineMs, unfinished: error.unfinished }, error.summary());
        } else {
          logger.error({ err: error }, 'unclean stop');
        }
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (herald.app) {
    try {
      await herald.app.listen({ host: config.host, port: config.port });
    } catch (error) {
      await herald.stop().catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ConfigError(`${config.host}:${config.port} is already in use: stop what listens there, or set HERALD_PORT (and HERALD_HOST) to a free address`);
      throw error;
    }
  }
  if (stoppingSince !== undefined) return;
  const sandboxed = Object.values(herald.providers).filter((p) => p.id === 'sandbox').map((p) => p.route);
  const banner = [
    `Herald (${config.role}) is running`,
    herald.app ? `  listening on   http://${config.host}:${(herald.app.server.address() as { port: number }).port}` : '  HTTP API       not in this role',
    `  event store    ${config.eventStore.kind === 'embedded' ? `embedded SQLite (${config.eventStore.file})` : 'EventStoreDB'}`,
    `  read models    ${config.readStore.kind === 'embedded' ? `embedded SQLite (${config.readStore.file})` : 'MongoDB'}`,
    ...Object.values(herald.providers)
      .filter((p) => config.workerRoutes.includes(p.route))
      .map((p) => `  ${p.route.padEnd(6)} route   ${p.id === 'sandbox' ? `SANDBOX: no credentials, deliveries go to ${config.sandbox.outboxFile}` : p.id}`),
    ...config.warnings.map((w) => `  WARNING        ${w}`),
  ];
  const firstKey = await herald.issueFirstKey();
  if (firstKey) banner.push('', `  API key (shown once, store it now): ${firstKey}`, '  Set HERALD_API_KEY to choose your own.');
  process.stdout.write(`${banner.join('\n')}\n`);
  logger.info({ role: config.role, sandboxRoutes: sandboxed }, 'herald started');
  for (const warning of config.warnings) logger.warn(warning);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`herald: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`herald: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
