// Command-line plumbing shared by every @brats CLI (the `@brats/kit/cli` entry). One option table per
// tool drives both the parser (node:util parseArgs, strict) and the help text, so the help cannot
// forget an option the parser accepts. Errors are typed (UsageError, InputNotFoundError) and printed
// as one line; a usage error adds "see <tool> --help", never the whole help.
export { CliError, EXIT, InputNotFoundError, UsageError, type CliErrorCode } from "./cli/errors.js";
export { helpText } from "./cli/help.js";
export {
  formatUsageError,
  processIo,
  readPackageVersion,
  reportError,
  runCliMain,
  type CliIo,
  type CliMain,
  type ErrorReportOptions,
  type RunCliOptions,
} from "./cli/main.js";
export {
  defineCli,
  type BooleanOption,
  type CliSpec,
  type OptionSpec,
  type OptionTable,
  type OptionValues,
  type ParsedCli,
  type PositionalSpec,
  type StringOption,
} from "./cli/options.js";
export { closestName, missingOptionError, parseCli } from "./cli/parse.js";
export {
  parseChoice,
  parseInteger,
  parseNumber,
  parseDuration,
  requireInputPath,
  type IntegerRange,
  type NumberRange,
} from "./cli/values.js";
