// `covenant log-key init FILE [--name NAME]`: a new key to sign the log's checkpoints with.
// Prints its verifier key (C2SP note verifier key) on stdout, which partners and witnesses pin.
import { createLogKey, defaultKeyName } from '../audit/log-key.js';
import { validKeyName } from '../verifier/receipt.js';
import { Exit, type ExitCode, type Io } from './io.js';

export async function logKeyInit(file: string, flags: { name?: string }, io: Io): Promise<ExitCode> {
  const name = flags.name ?? defaultKeyName();
  if (!validKeyName(name)) {
    io.stderr(`error: \`${name}\` cannot name a log key: no spaces or plus signs\n`);
    return Exit.invalid;
  }
  try {
    const signer = await createLogKey(file, name);
    io.stdout(`${signer.verifierKey}\n`);
    io.stderr(`wrote the signing key to ${file} (mode 0600); keep it apart from the data folder and start the service with --log-key ${file}. The line above is its verifier key: give it to partners and witnesses\n`);
    return Exit.ok;
  } catch (e) {
    io.stderr(`error: ${(e as Error).message}\n`);
    return Exit.invalid;
  }
}
