<?php

declare(strict_types=1);

// Logout: POST only (with the CSRF token), so no link on another site can log anyone out.

namespace Panel;

if (!is_post()) {
    throw new Http(405, 'Use the Logout button.', 'Logout');
}
log_out();
flash('ok', 'You have logged out.');
redirect('/login');
