import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** Longest piece of a request URL quoted back in an error reason, characters. */
export const URL_EXCERPT_CHARS = 80;

/**
 * At most `max` characters of `s` (a request's path), with `…` when cut: an error
 * reason may quote what was asked for, never echo a whole (possibly huge) URL.
 */
export function excerpt(s: string, max = URL_EXCERPT_CHARS): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** The path of a raw request URL, without its query string, shortened by {@link excerpt}. */
export const pathExcerpt = (url: string | undefined): string => excerpt((url ?? '').split('?')[0] as string);

type Send = (reply: FastifyReply, status: number, error: string, reason: string) => FastifyReply;

/**
 * Fastify's `frameworkErrors` option: the router's own refusals in the documented
 * `{error, reason}` shape. A path that is not valid percent-encoding
 * (FST_ERR_BAD_URL) is 400; a path parameter over the router's length limit
 * (FST_ERR_MAX_PARAM_LENGTH) is 414. Neither echoes the whole URL.
 */
export function frameworkErrors(send: Send, maxParamLength: number) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    const where = pathExcerpt(req.raw.url);
    switch (err.code) {
      case 'FST_ERR_BAD_URL':
        send(reply, 400, 'bad_request', `the path is not valid percent-encoding: ${where}`);
        return;
      case 'FST_ERR_MAX_PARAM_LENGTH':
        send(reply, 414, 'uri_too_long', `a path segment is longer than ${maxParamLength} characters: ${where}`);
        return;
      default:
        send(reply, 500, 'internal_error', 'the request could not be routed');
    }
  };
}

/**
 * Fastify's `clientErrorHandler`: requests Node's HTTP parser refuses before any
 * route sees them (431 header fields too large, 408 timeout, 400 malformed), also
 * answered as `{error, reason}` JSON, then the connection is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let body: { error: string; reason: string } = { error: 'bad_request', reason: 'malformed HTTP request' };
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    body = { error: 'request_header_fields_too_large', reason: `the request line and headers are over ${http.maxHeaderSize} bytes` };
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    body = { error: 'request_timeout', reason: 'the request was not received in time' };
  }
  const json = JSON.stringify(body);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${json}`);
  }
  socket.destroy(err);
}
