/**
 * The JSON body parser of every JSON route: express.json with its size limit, refusing
 * (400 MALFORMED_REQUEST, like any other unreadable body) a document whose keys or strings
 * hold U+0000 (src/domain/text.ts).
 */
import express from 'express';
import { refuseNul } from '../domain/text.js';

export function jsonBody(limit: string): ReturnType<typeof express.json> {
  return express.json({ limit, reviver: refuseNul });
}
