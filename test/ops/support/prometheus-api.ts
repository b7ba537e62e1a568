/** The two Prometheus HTTP API reads the game day needs: active alerts and instant queries. */

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${url}: ${body.error ?? res.status}`);
  return body.data;
}

export async function activeAlerts(prometheusUrl: string): Promise<PrometheusAlert[]> {
  return (await api<{ alerts: PrometheusAlert[] }>(`${prometheusUrl}/api/v1/alerts`)).alerts;
}

export async function instantQuery(prometheusUrl: string, query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
    `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`,
  );
  return data.result;
}
