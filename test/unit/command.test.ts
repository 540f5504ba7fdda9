import { describe, expect, it } from 'vitest';
import { checkExecutable, renderCommand, type RenderInput } from '../../src-main/core/plan/command';

const ctx = { id: 'f7a314fe', tmp: '/data/work/' };

function step(over: Partial<RenderInput>): RenderInput {
  return { executable: '', params: [], param_values: {}, value: '', in_globs: ['.input'], out_globs: ['.out', '.stdout'], ...over };
}

describe('checkExecutable', () => {
  it('accepts a plain command with every placeholder', () => {
    expect(checkExecutable('/usr/bin/tool -a $P1 $P2 -i $I1 -o $O1 --v $VALUE --id $ID --tmp $TMP')).toBeNull();
  });

  it('accepts globs and quotes, which are just text without a shell', () => {
    expect(checkExecutable('tool *.txt "a b"')).toBeNull();
  });

  it.each([
    ['tool $I1 | sort', '|'],
    ['tool > out.txt', '>'],
    ['tool >> out.txt', '>>'],
    ['tool "a>b"', '>'],
    ['tool < in.txt', '<'],
    ['tool 2>&1', '>&'],
    ['tool; rm x', ';'],
    ['tool & other', '&'],
    ['tool && other', '&&'],
    ['tool || other', '||'],
    ['tool `date`', '`'],
    ['tool $(date)', '$('],
    ['tool "$(date)"', '$('],
    ['(cd x; tool)', '('],
  ])('rejects %s, naming %s', (executable, operator) => {
    expect(checkExecutable(executable)).toBe(
      `executable uses shell syntax (${JSON.stringify(operator)}): commands run without a shell; ` +
        'use stdout_glob to capture output or a script backend for pipelines',
    );
  });
});

describe('renderCommand', () => {
  it('renders the A_A documentation example to the same words its shell would run', () => {
    const argv = renderCommand(
      step({
        executable: '/usr/bin/example_binary $P1 -u 123 -la $P2 -input $I1 -out $O1',
        params: ['-z', '-lm'],
        param_values: { '-z': { value: '12', spacing: true, switchless: false } },
      }),
      ctx,
    );
    expect(argv).toEqual(['/usr/bin/example_binary', '-z', '12', '-u', '123', '-la', '-lm', '-input', 'f7a314fe.input', '-out', 'f7a314fe.out']);
  });

  it('renders a valued parameter switchless, without spacing, or flag and value as two words', () => {
    const param_values = {
      '-a': { value: '1', spacing: true, switchless: true },
      '-b': { value: '2', spacing: false, switchless: false },
      '-c': { value: '3', spacing: true, switchless: false },
    };
    expect(renderCommand(step({ executable: 't $P1 $P2 $P3', params: ['-a', '-b', '-c'], param_values }), ctx)).toEqual([
      't', '1', '-b2', '-c', '3',
    ]);
  });

  it('drops a switch set to FALSE instead of passing an empty argument', () => {
    expect(renderCommand(step({ executable: 't $P1 x', params: [''] }), ctx)).toEqual(['t', 'x']);
  });

  it('drops an empty value rather than passing an empty word', () => {
    const param_values = { '-z': { value: '', spacing: true, switchless: false }, '-y': { value: '', spacing: true, switchless: true } };
    expect(renderCommand(step({ executable: 't $P1 $P2', params: ['-z', '-y'], param_values }), ctx)).toEqual(['t', '-z']);
  });

  it('does not confuse $P1 with $P10 when there are ten or more parameters', () => {
    const params = Array.from({ length: 11 }, (_, i) => `-f${i + 1}`);
    expect(renderCommand(step({ executable: 't $P10 $P1 $P11', params }), ctx)).toEqual(['t', '-f10', '-f1', '-f11']);
  });

  it('leaves a placeholder with no such parameter or glob as written', () => {
    expect(renderCommand(step({ executable: 't $P3 $I2 $O9 $P0', params: ['-a'] }), ctx)).toEqual(['t', '$P3', '$I2', '$O9', '$P0']);
  });

  it('keeps a value with spaces or shell metacharacters as one argument', () => {
    const param_values = {
      '-m': { value: 'two words', spacing: true, switchless: false },
      '-q': { value: '$(rm -rf /); `x` | y', spacing: false, switchless: true },
    };
    expect(renderCommand(step({ executable: 't $P1 $P2', params: ['-m', '-q'], param_values }), ctx)).toEqual([
      't', '-m', 'two words', '$(rm -rf /); `x` | y',
    ]);
  });

  it('substitutes a parameter inside a larger word as the joined text', () => {
    const param_values = { '-z': { value: '12', spacing: true, switchless: false } };
    expect(renderCommand(step({ executable: 't --opt=$P1', params: ['-z'], param_values }), ctx)).toEqual(['t', '--opt=-z 12']);
  });

  it('never rescans substituted text for placeholders', () => {
    const param_values = { '-z': { value: '$ID', spacing: false, switchless: true } };
    expect(renderCommand(step({ executable: 't $P1 x$P1', params: ['-z'], param_values }), ctx)).toEqual(['t', '$ID', 'x$ID']);
  });

  it('renders $I<n> and $O<n> as the submission id plus the nth glob', () => {
    expect(
      renderCommand(step({ executable: 't $I1 $I2 $O2 $O1', in_globs: ['.a', '.b'], out_globs: ['.x', '.y'] }), ctx),
    ).toEqual(['t', 'f7a314fe.a', 'f7a314fe.b', 'f7a314fe.y', 'f7a314fe.x']);
  });

  it('renders $VALUE, $ID and $TMP (the backend root without its trailing slash), also inside words', () => {
    expect(renderCommand(step({ executable: 't $VALUE $ID $TMP $TMP/$ID.log', value: 'things' }), ctx)).toEqual([
      't', 'things', 'f7a314fe', '/data/work', '/data/work/f7a314fe.log',
    ]);
  });

  it('splits the template on any whitespace run, including tabs and newlines', () => {
    expect(renderCommand(step({ executable: '  t\t-a\n\n-b  ' }), ctx)).toEqual(['t', '-a', '-b']);
  });

  it("throws A_A's error for stdout redirection anywhere in the template", () => {
    expect(() => renderCommand(step({ executable: 't -a>x' }), ctx)).toThrow(
      new Error('Command string provides stdout redirection, please provide std_out_str instead'),
    );
  });

  it("throws A_A's error for $VALUE without a value", () => {
    expect(() => renderCommand(step({ executable: 't $VALUE' }), ctx)).toThrow(
      new Error('Command string references $VALUE but no value_string provided'),
    );
  });
});
