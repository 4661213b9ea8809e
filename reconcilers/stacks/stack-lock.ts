// One reconcile per stack at a time: a keyed promise chain, one instance per process (its composition root creates it).
export type StackLocks = {
  /** Runs `fn` after every earlier call for `stack` has settled. */
  run<T>(stack: string, fn: () => Promise<T>): Promise<T>;
};

export function createStackLocks(): StackLocks {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run(stack, fn) {
      const previous = tails.get(stack) ?? Promise.resolve();
      const run = previous.catch(() => undefined).then(fn);
      const tail = run.catch(() => undefined);
      tails.set(stack, tail);
      void tail.then(() => {
        if (tails.get(stack) === tail) tails.delete(stack);
      });
      return run;
    },
  };
}
