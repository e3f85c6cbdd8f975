import { DashboardController } from './dashboard.controller';

class Unbuilt extends DashboardController {
  protected locateBuild = () => undefined;
}

function response() {
  const sent: { status?: number; headers: Record<string, string>; body?: string } = { headers: {} };
  const res = {
    status(code: number) {
      sent.status = code;
      return res;
    },
    setHeader(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
    },
    send(body: Buffer | string) {
      sent.body = String(body);
    },
  };
  return { res, sent };
}

describe('the dashboard controller', () => {
  it('answers 404 with how to build when dist/ui is missing', () => {
    const { res, sent } = response();
    new Unbuilt().shell({ originalUrl: '/gotick/ui/', headers: {} }, res);
    expect(sent.status).toBe(404);
    expect(sent.headers['content-type']).toMatch(/^text\/plain/);
    expect(sent.body).toContain('npm run build');
  });

  it('redirects <path>/ui to <path>/ui/ with a relative Location, so a proxy prefix survives', () => {
    const { res, sent } = response();
    new Unbuilt().shell({ originalUrl: '/gotick/ui?x=1', headers: {} }, res);
    expect(sent.status).toBe(302);
    expect(sent.headers.location).toBe('ui/');
  });
});
