/** The FCM adapter: the only place that imports firebase-admin. */
export { FCM_CREDENTIALS_VAR, FCM_DEFAULT_MAX_SOCKETS, FCM_DEFAULT_TIMEOUT_MS, FCM_DEFAULT_TRANSPORT, FCM_MAX_SOCKETS_VAR, FCM_TIMEOUT_VAR, FCM_TRANSPORT_VAR, loadFcmConfig, type FcmConfig, type FcmTransport } from './config.ts';
export { FCM_MAX_BATCH_SIZE, createFcmProvider, type FcmProviderOptions } from './provider.ts';
export { FCM_ERROR_TABLE, FCM_QUOTA_RETRY_AFTER_MS, mapFcmError } from './errors.ts';
