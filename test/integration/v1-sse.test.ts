// Server-sent run events: the current state first, then every change in order, to many subscribers at once, ending at a final state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';
import type { RunEvent } from '../../src-main/core/events';

let t: TestServer;
const SUBSCRIBERS = 50;

interface Received {
  event: string;
  data: any;
}

/** Opens an event stream; `first` resolves at the first event, `done` when the server ends the stream. */
function subscribe(url: string): { first: Promise<void>; done: Promise<Received[]> } {
  let firstSeen: () => void = () => {};
  const first = new Promise<void>((resolve) => (firstSeen = resolve));
  const done = (async () => {
    const res = await fetch(url);
    const out: Received[] = [];
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!event || !data) continue;
        out.push({ event, data: JSON.parse(data) });
        if (out.length === 1) firstSeen();
      }
    }
    return out;
  })();
  return { first, done };
}

/** What a subscriber should see for a core event. */
const expected = (e: RunEvent): Received =>
  e.type === 'submission'
    ? { event: 'state', data: { state: ['Submitted', 'Running', 'Complete', 'Error', 'Crash', 'Cancelled'][e.status], message: e.last_message, at: e.at } }
    : { event: 'step', data: { step: e.step_key, state: e.state, exit_code: e.exit_code, at: e.at } };

beforeAll(async () => {
  // Paused: the run waits in Submitted while every subscriber connects.
  t = await startTestServer({ paused: true, settings: { queue_hog_size: null, queue_hard_limit: null } });
  addTask(t.core.db, 'first', 'echo first', { out_glob: '.a', stdout_glob: '.a' });
  addTask(t.core.db, 'second', 'cat $I1', { in_glob: '.a', out_glob: '.b', stdout_glob: '.b' });
  addTask(t.core.db, 'third', 'cat $I1', { in_glob: '.b', out_glob: '.c', stdout_glob: '.c' });
  addJob(t.core.db, 'chain', [['first', 0], ['second', 1], ['third', 2]]);
  addTask(t.core.db, 'fails', 'false', { out_glob: '.x', stdout_glob: '.x' });
  addJob(t.core.db, 'fails', [['fails', 0]]);
});

afterAll(async () => {
  await t?.close();
});

const submit = async (job: string) => {
  const res = await fetch(`${t.url}/api/v1/services/${job}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input_data: 'x' }) });
  expect(res.status).toBe(202);
  return ((await res.json()) as any).id as string;
};

describe('run events', () => {
  it(`${SUBSCRIBERS} concurrent subscribers each get the current state, then every state change and step in order, then the end`, async () => {
    const id = await submit('chain');
    const reference: RunEvent[] = [];
    const off = t.core.events.onRun((e) => {
      if ((e.type === 'submission' && e.uuid === id) || (e.type === 'attempt' && e.submission_uuid === id)) reference.push(e);
    });
    const subs = Array.from({ length: SUBSCRIBERS }, () => subscribe(`${t.url}/api/v1/runs/${id}/events`));
    await Promise.all(subs.map((s) => s.first));
    t.core.resume();
    const streams = await Promise.all(subs.map((s) => s.done));
    off();
    t.core.pause();

    const states = reference.filter((e) => e.type === 'submission').map((e) => (e as Extract<RunEvent, { type: 'submission' }>).last_message);
    expect(states[0]).toBe('Running step: 1');
    expect(states[states.length - 1]).toBe('Completed job at step #3');
    expect(reference.filter((e) => e.type === 'attempt' && e.state === 'done')).toHaveLength(3);
    const want = reference.map(expected);
    for (const stream of streams) {
      expect(stream[0]).toMatchObject({ event: 'state', data: { id, state: 'Submitted', message: 'Submitted' } });
      const middle = stream.slice(1, -1).map((r) => ({ event: r.event, data: r.event === 'state' ? { state: r.data.state, message: r.data.message, at: r.data.at } : { step: r.data.step, state: r.data.state, exit_code: r.data.exit_code, at: r.data.at } }));
      expect(middle).toEqual(want);
      expect(stream[stream.length - 1]).toMatchObject({ event: 'end', data: { id, state: 'Complete' } });
      expect(stream[stream.length - 1].data.results).toHaveLength(3);
    }
  });

  it('a failing run ends its stream at Error', async () => {
    const id = await submit('fails');
    const sub = subscribe(`${t.url}/api/v1/runs/${id}/events`);
    await sub.first;
    t.core.resume();
    const stream = await sub.done;
    t.core.pause();
    const states = stream.filter((r) => r.event === 'state').map((r) => r.data.state);
    expect(states[0]).toBe('Submitted');
    expect(states[states.length - 1]).toBe('Error');
    expect(stream.find((r) => r.event === 'step' && r.data.state === 'failed')?.data.exit_code).toBe(1);
    expect(stream[stream.length - 1]).toMatchObject({ event: 'end', data: { state: 'Error' } });
  });

  it('subscribing to a finished run sends its final state and the end at once', async () => {
    const id = await submit('fails');
    t.core.resume();
    await t.core.waitFor(id, 10_000);
    t.core.pause();
    const stream = await subscribe(`${t.url}/api/v1/runs/${id}/events`).done;
    expect(stream.map((r) => r.event)).toEqual(['state', 'end']);
    expect(stream[0].data.state).toBe('Error');
  });
});
