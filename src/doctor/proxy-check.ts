import type { ProxyRoute } from '../config/proxy.js';
import { redact, redactUrl } from '../redact.js';
import { failedInTls, PROXY_AUTH_STATUSES } from '../uploader/classify.js';
import type { HttpOutcome } from '../uploader/transport.js';

/** The doctor's line about the proxy; `blocked`: the ingest could not be judged, the proxy is at fault. */
export interface ProxyCheck {
  readonly check: 'proxy';
  readonly status: 'ok' | 'fail';
  readonly detail: string;
  readonly hint?: string | undefined;
  readonly blocked: boolean;
}

/**
 * Which proxy the ingest's HEAD went through (redacted, and where it came from), judged from
 * that HEAD's outcome: through a CONNECT tunnel every refusal of the tunnel is the proxy's, and
 * a connection that fails outright fails to the proxy; an HTTP answer is the ingest's.
 */
export function checkProxy(route: ProxyRoute, outcome: HttpOutcome): ProxyCheck {
  if (route.kind === 'direct') {
    return {
      check: 'proxy',
      status: 'ok',
      detail: `none, direct to the ingest (${route.why})`,
      blocked: false,
    };
  }
  const proxy = `${redactUrl(route.url)} (from ${route.from})`;
  if (outcome.kind === 'response') {
    return {
      check: 'proxy',
      status: 'ok',
      detail: `${proxy}: the tunnel to the ingest opens`,
      blocked: false,
    };
  }
  const status = outcome.kind === 'error' ? outcome.proxyStatus : undefined;
  if (status !== undefined && PROXY_AUTH_STATUSES.has(status)) {
    return {
      check: 'proxy',
      status: 'fail',
      detail: `${proxy} refused the relay's credentials (HTTP ${status} to CONNECT): the proxy refused, not the ingest`,
      hint: 'check USER:PASSWORD@ in the proxy URL, not the API key',
      blocked: true,
    };
  }
  if (status === 403) {
    return {
      check: 'proxy',
      status: 'fail',
      detail: `${proxy} refused to open a tunnel to the ingest (HTTP 403 to CONNECT)`,
      hint: "the proxy must allow CONNECT to the ingest's port (tinyproxy: ConnectPort; squid: SSL_ports)",
      blocked: true,
    };
  }
  if (status !== undefined) {
    return {
      check: 'proxy',
      status: 'ok',
      detail: `${proxy} answers, but could not reach the ingest (HTTP ${status} to CONNECT)`,
      blocked: false,
    };
  }
  if (failedInTls(outcome)) {
    // The ingest's TLS runs inside the tunnel: the tunnel opened.
    return {
      check: 'proxy',
      status: 'ok',
      detail: `${proxy}: the tunnel to the ingest opens`,
      blocked: false,
    };
  }
  return {
    check: 'proxy',
    status: 'fail',
    detail: `${proxy} does not answer: ${outcome.code} ${redact(outcome.message)}`,
    hint: 'check the proxy address and port (--proxy, HTTPS_PROXY/HTTP_PROXY), or list the ingest in NO_PROXY',
    blocked: true,
  };
}
