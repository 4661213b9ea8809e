// The error a command prints when the engine it is asked to drive cannot be selected (its own
// module: `berth --help` catches it without loading what selecting an engine needs).
export class EngineSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineSelectionError";
  }
}
