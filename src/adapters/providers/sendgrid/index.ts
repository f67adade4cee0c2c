export { SENDGRID_DEFAULT_TIMEOUT_MS, SENDGRID_TIMEOUT_VAR, loadSendgridConfig, type SendgridConfig } from './config.ts';
export { createSendgridProvider } from './provider.ts';
