/**
 * Quiet hours: a sender's daily window, in the recipient's local wall-clock time, during
 * which no SMS is sent. `{ start: "21:00", end: "08:00" }` is quiet from 21:00 to 08:00 the
 * next morning; `{ start: "12:00", end: "14:00" }` from noon to two. Start is inside the
 * window, end is not; start and end may not be equal.
 *
 * The arithmetic works on instants (epoch ms) and IANA time zones through Intl only, so a
 * night that crosses a daylight-saving change is right: the end of the window is the first
 * instant whose local time is `end` — on a spring-forward night whose gap swallows `end`
 * (02:30 on the last Sunday of March in Brussels), the first instant after the gap (03:00
 * CEST); on a fall-back night where `end` happens twice, its first occurrence still ahead.
 * Nothing here reads the clock: callers pass `now`.
 *
 * The recipient's time zone: the contact entry's `timeZone` when it has one; else the zone
 * of the mobile number's country where that country has a single zone (COUNTRY_TIME_ZONES,
 * country from libphonenumber-js); else the service's NOTIFY_TIME_ZONE.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export interface QuietHours {
  /** "HH:MM", 24-hour */
  start: string;
  /** "HH:MM", 24-hour */
  end: string;
}

const HH_MM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

/** The quiet hours as given in a request, or a reason they are not acceptable. */
export function parseQuietHours(raw: unknown): { ok: true; value: QuietHours | null } | { ok: false; reason: string } {
  if (raw === null) return { ok: true, value: null };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, reason: 'quietHours must be {"start": "HH:MM", "end": "HH:MM"} or null' };
  const r = raw as Record<string, unknown>;
  const extra = Object.keys(r).filter((k) => k !== 'start' && k !== 'end');
  if (extra.length > 0) return { ok: false, reason: `quietHours: unknown member(s) ${extra.join(', ')}` };
  if (typeof r.start !== 'string' || !HH_MM.test(r.start) || typeof r.end !== 'string' || !HH_MM.test(r.end)) return { ok: false, reason: 'quietHours.start and quietHours.end must be 24-hour times "HH:MM" (00:00 to 23:59)' };
  if (r.start === r.end) return { ok: false, reason: 'quietHours.start and quietHours.end must differ' };
  return { ok: true, value: { start: r.start, end: r.end } };
}

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone.length === 0 || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Countries whose whole territory (as far as their mobile numbers go) keeps one time zone.
 * Countries with several (ES with the Canaries, PT with the Azores, the US, …) are left out
 * on purpose: their numbers fall back to the contact's zone or NOTIFY_TIME_ZONE.
 */
export const COUNTRY_TIME_ZONES: Readonly<Record<string, string>> = {
  AT: 'Europe/Vienna',
  BE: 'Europe/Brussels',
  BG: 'Europe/Sofia',
  CH: 'Europe/Zurich',
  CZ: 'Europe/Prague',
  DE: 'Europe/Berlin',
  DK: 'Europe/Copenhagen',
  EE: 'Europe/Tallinn',
  FI: 'Europe/Helsinki',
  FR: 'Europe/Paris',
  GB: 'Europe/London',
  GR: 'Europe/Athens',
  HR: 'Europe/Zagreb',
  HU: 'Europe/Budapest',
  IE: 'Europe/Dublin',
  IT: 'Europe/Rome',
  LT: 'Europe/Vilnius',
  LU: 'Europe/Luxembourg',
  LV: 'Europe/Riga',
  MA: 'Africa/Casablanca',
  NL: 'Europe/Amsterdam',
  NO: 'Europe/Oslo',
  PL: 'Europe/Warsaw',
  RO: 'Europe/Bucharest',
  SE: 'Europe/Stockholm',
  SI: 'Europe/Ljubljana',
  SK: 'Europe/Bratislava',
  TR: 'Europe/Istanbul',
};

/** The recipient's time zone: the contact's own, else its number's country's, else `fallback`. */
export function recipientTimeZone(contactZone: string | null | undefined, phone: string | null | undefined, fallback: string): string {
  if (contactZone && isTimeZone(contactZone)) return contactZone;
  if (phone) {
    const country = parsePhoneNumberFromString(phone)?.country;
    const zone = country ? COUNTRY_TIME_ZONES[country] : undefined;
    if (zone) return zone;
  }
  return fallback;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, f);
  }
  return f;
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The local wall-clock time of an instant in `zone`. */
export function wallTime(instant: number, zone: string): Wall {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(instant))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
}

/** The zone's offset from UTC at an instant, in ms (Brussels in summer: +7 200 000). */
function offsetAt(instant: number, zone: string): number {
  const w = wallTime(instant, zone);
  const whole = Math.floor(instant / 1000) * 1000;
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - whole;
}

/**
 * The instants whose local time in `zone` is the wall-clock time given (y, m, d, h, min),
 * earliest first: one normally, two when clocks go back, none in a spring-forward gap — then
 * the first instant after the gap (the change itself).
 */
export function instantsOf(zone: string, year: number, month: number, day: number, hour: number, minute: number): number[] {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const DAY = 86_400_000;
  const offsets = [...new Set([offsetAt(wall - DAY, zone), offsetAt(wall, zone), offsetAt(wall + DAY, zone)])];
  const found = [...new Set(offsets.map((o) => wall - o).filter((t) => offsetAt(t, zone) === wall - t))].sort((a, b) => a - b);
  if (found.length > 0) return found;
  // in a gap: the change lies between wall - (offset after) and wall - (offset before)
  let lo = wall - Math.max(...offsets);
  let hi = wall - Math.min(...offsets);
  const before = offsetAt(lo, zone);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(mid, zone) === before) lo = mid;
    else hi = mid;
  }
  return [hi];
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * When the quiet hours that hold at `now` end, in `zone`; undefined when `now` is not in
 * quiet hours. Always later than `now`.
 */
export function quietUntil(now: number, zone: string, quiet: QuietHours): number | undefined {
  const w = wallTime(now, zone);
  const m = w.hour * 60 + w.minute;
  const start = minutes(quiet.start);
  const end = minutes(quiet.end);
  const inside = start < end ? m >= start && m < end : m >= start || m < end;
  if (!inside) return undefined;
  // the end is today, or (a window across midnight, entered this evening) tomorrow
  const dayOffset = start > end && m >= start ? 1 : 0;
  for (let extra = 0; extra < 2; extra++) {
    const date = new Date(Date.UTC(w.year, w.month - 1, w.day + dayOffset + extra));
    const ahead = instantsOf(zone, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), Math.floor(end / 60), end % 60).find((t) => t > now);
    if (ahead !== undefined) return ahead;
  }
  /* c8 ignore next */
  return undefined;
}
