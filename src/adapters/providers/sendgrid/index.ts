export { loadSendgridConfig, type SendgridConfig } from './config.ts';
export { createSendgridProvider } from './provider.ts';
