/** The dashboard's page: a header with the three sections and hash routing between them. */
import '@xyflow/react/dist/style.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { DlqPage } from './dlq.js';
import { ExecutionPage } from './execution.js';
import { ExecutionsPage } from './executions.js';
import { href, useRoute } from './util.js';
import { WorkflowsPage } from './workflows.js';

function App() {
  const route = useRoute();
  const [section = 'workflows', id] = route.parts;
  const page =
    section === 'executions' && id !== undefined ? (
      <ExecutionPage id={id} key={id} />
    ) : section === 'executions' ? (
      <ExecutionsPage route={route} />
    ) : section === 'dlq' ? (
      <DlqPage route={route} />
    ) : (
      <WorkflowsPage />
    );
  const tab = (name: string, label: string) => (
    <a className={section === name ? 'tab active' : 'tab'} href={href(name)} data-testid={`tab-${name}`}>
      {label}
    </a>
  );
  return (
    <>
      <nav className="top">
        <span className="brand">SPANE</span>
        {tab('workflows', 'Workflows')}
        {tab('executions', 'Executions')}
        {tab('dlq', 'Dead letters')}
      </nav>
      <main>{page}</main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
