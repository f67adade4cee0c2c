/** The APNs adapter: the only place that imports @parse/node-apn. */
export { APNS_DEFAULT_TIMEOUT_MS, APNS_ENV, APNS_TIMEOUT_VAR, loadApnsConfig, type ApnsConfig } from './config.ts';
export { APNS_MAX_BATCH_SIZE, createApnsProvider, type ApnsProviderOptions } from './provider.ts';
export { APNS_ERROR_TABLE, mapApnsFailure } from './errors.ts';
