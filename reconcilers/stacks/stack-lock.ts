// One reconcile per stack at a time inside this process: a keyed promise chain.
const tails = new Map<string, Promise<unknown>>();

export function withStackLock<T>(stack: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(stack) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(fn);
  const tail = run.catch(() => undefined);
  tails.set(stack, tail);
  void tail.then(() => {
    if (tails.get(stack) === tail) tails.delete(stack);
  });
  return run;
}
