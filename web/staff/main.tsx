import { mount } from '../shared/mount.js';
import './style.css';

// Placeholder until the staff page is built: the page loads, its bundle runs, and it says what it is.
mount(() => (
  <main>
    <h1>Ausgabebox — Personal</h1>
  </main>
));
