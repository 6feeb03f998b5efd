/**
 * The CLI's pino logger on stderr: one JSON object per line by default; when
 * stderr is a terminal, one compact human line per record instead (no
 * pino-pretty dependency).
 */
import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** Formats one pino JSON record as `HH:MM:SS.mmm LEVEL msg key=value ...`. */
export function humanLine(json: string): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const t = typeof r['time'] === 'number' ? new Date(r['time']).toISOString().slice(11, 23) : '';
  const lvl = LEVEL_NAMES[Number(r['level'])] ?? String(r['level']);
  const rest = Object.entries(r)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${t} ${lvl.padEnd(5)} ${String(r['msg'] ?? '')}${rest === '' ? '' : ` ${rest}`}\n`;
}

export function cliLogger(level: LogLevel, stream: { write(s: string): unknown; isTTY?: boolean } = process.stderr): Logger {
  const tty = stream.isTTY === true;
  return pino({ level, base: null }, { write: (s: string) => void stream.write(tty ? humanLine(s) : s) });
}
