// The workbench API's wire types, shared with the server by type-only import (nothing of the server is bundled).
export type * from '../../../src-main/server/routes/admin-types';
