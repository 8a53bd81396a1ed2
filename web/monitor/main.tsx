import { mount } from '../shared/mount.js';
import { ConsoleApp } from '../staff/console.js';

// The monitor: the staff console's views, read-only (no action is offered, and the monitor
// credential could not change anything anyway).
mount(() => <ConsoleApp mode="monitor" />);
