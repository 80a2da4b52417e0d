<?php

declare(strict_types=1);

// Login with the panel's own email and password; every success is recorded in Cohort (Last Login).

namespace Panel;

$error = null;
$email = '';
if (is_post()) {
    $email = post('email');
    $who = authenticate($email, post('password', true));
    if ($who === null) {
        $error = 'Wrong email or password.';
    } else {
        log_in($who);
        redirect('/');
    }
} elseif (me() !== null) {
    redirect('/');
}
ob_start();
?>
<?php if ($error !== null) { ?><p class="flash error" role="alert"><?= h($error) ?></p><?php } ?>
<form method="post" action="/login" class="card narrow">
<?= csrf_field() ?>
<label for="login-email">Email Address</label>
<input type="email" name="email" id="login-email" value="<?= h($email) ?>" autocomplete="username" required>
<label for="login-password">Password</label>
<input type="password" name="password" id="login-password" autocomplete="current-password" required>
<button type="submit">Login</button>
</form>
<p>No login yet? <a href="/register">Register</a></p>
<?php
render('Login', (string) ob_get_clean(), $error === null ? 200 : 401);
