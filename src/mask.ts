/**
 * Masking of contact details for logs and error bodies. Enough is kept to tell two values apart
 * while debugging, never enough to contact the person or reuse a device token.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return maskSecret(email);
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot >= 0 ? domain.slice(dot) : '';
  return `${local[0] ?? ''}***@${domain[0] ?? ''}***${tld}`;
}

export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 6) return '***';
  return `${phone.startsWith('+') ? '+' : ''}${digits.slice(0, 2)}******${digits.slice(-2)}`;
}

/** Device tokens, API keys and other secrets: a short prefix only. */
export function maskSecret(value: string): string {
  if (value.length <= 8) return '***';
  return `${value.slice(0, 4)}…(${value.length})`;
}

/** Masks whatever kind of address `to` is. */
export function maskAddress(to: string): string {
  if (to.includes('@')) return maskEmail(to);
  if (/^\+?[\d\s().-]{6,}$/.test(to)) return maskPhone(to);
  return maskSecret(to);
}
