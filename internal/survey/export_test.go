package survey

import "context"

// ForView exposes the survey pages' invitation read to the tests.
func (s *Service) ForView(ctx context.Context, id string) (*Invitation, error) {
	return s.forView(ctx, id)
}
