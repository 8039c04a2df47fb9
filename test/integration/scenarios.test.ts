import { scenarioSuite } from '../support/scenarios';
import { bundleCommand } from '../support/run-tool';

scenarioSuite('node bundles over a unix socket', bundleCommand, false);
scenarioSuite('node bundles over a pty', bundleCommand, true);
