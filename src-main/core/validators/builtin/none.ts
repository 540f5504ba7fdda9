// Owns the `none` validator: accepts every upload.
import { registerValidator } from '../registry';

registerValidator({
  name: 'none',
  description: 'Accepts any input.',
  check: async () => true,
});
