<?php

declare(strict_types=1);

/*
 * The page the invitation email links to: /accept?token=… (seeds 000 and 004).
 *
 * 1. It names the account and who invited, with an "Accept Invite" button.
 * 2. Pressed by a logged-in user, the invite is accepted at once (or they are told why not: an
 *    invite for another address stays pending, and they are told which address to log in as).
 *    Pressed by anyone else, it offers "Register" (a new login for the invited address, logged
 *    in at once) and "Login" (an existing login, typed here or logged in in another window of
 *    this browser, which shares the session).
 * Dead links (expired, used, cancelled, superseded, ...) each get their own sentence.
 *
 * The token is in the URL of the first request only; the forms carry it in their POST body.
 * Every response of this page has Referrer-Policy: no-referrer (public/index.php).
 */

namespace Panel;

use Cohort\Exception\CohortException;
use Cohort\Exception\EmailMismatchException;
use Cohort\Exception\InvalidTokenException;
use Cohort\Status;

$c = cohort();
$token = is_post() ? post('token') : query('token');
if (strlen($token) > 4096) {
    $token = '';
}

/** The sentence for a link that cannot be used. */
$deadLink = static function (array $seen): string {
    $account = $seen['account_name'] ?? null;
    $owner = $seen['invited_by'] ?? null;
    $ask = $owner !== null ? "Ask $owner" : 'Ask the account owner';
    return match ($seen['reason'] ?? '') {
        'expired' => 'This invitation has expired. ' . $ask . ' to resend it: the new email will have a link that works.',
        'superseded' => 'This link was replaced by a newer invitation. Use the link in the most recent invitation email.',
        'already_used' => 'This invitation has already been accepted. Log in to reach '
            . ($account !== null ? $account : 'the account') . '.',
        'cancelled' => 'This invitation was cancelled by the account. ' . $ask . ' for a new one if you still need access.',
        'declined' => 'This invitation was declined. ' . $ask . ' for a new one if you still need access.',
        default => 'This invitation link is not valid. Check that you opened the whole link from the email.',
    };
};

$seen = $token === '' ? ['valid' => false, 'reason' => 'empty'] : $c->inspect($token);
if (!$seen['valid']) {
    ob_start();
    ?>
<section class="card narrow" id="dead-link">
<p class="notice"><?= h($deadLink($seen)) ?></p>
<p class="muted">Reason: <?= h($seen['reason'] ?? 'unknown') ?></p>
<p><?= me() !== null ? '<a href="/">Go to the Dashboard</a>' : '<a href="/login">Login</a>' ?></p>
</section>
<?php
    render('Invitation', (string) ob_get_clean(), $token === '' ? 400 : 410);
}

$invited = (string) $seen['email'];
$inviter = (string) $seen['invited_by'];
try {
    $inviterName = $c->user($inviter)['name'];
} catch (CohortException) {
    $inviterName = '';
}
$step = 'intro';            // intro | choose
$error = null;
$mismatch = null;           // the logged-in email that is not the invited one

/** Accepts as the logged-in user; on success goes to the account, else says why. */
$acceptAsMe = static function () use ($c, $token, $seen, &$error, &$mismatch, &$step): void {
    $me = (string) me();
    try {
        $member = $c->accept($token, $me);
    } catch (EmailMismatchException) {
        $mismatch = $me;
        $step = 'choose';
        return;
    } catch (InvalidTokenException $e) {
        $error = refusal($e);
        return;
    } catch (CohortException $e) {
        $error = refusal($e);
        $step = 'choose';
        return;
    }
    $_SESSION['account'] = $member['account_id'];
    flash('ok', 'You now have access to ' . ($seen['account_name'] ?? $member['account_id']) . '.');
    redirect('/');
};

if (is_post()) {
    switch (post('action')) {
        case 'accept':
            if (me() !== null) {
                $acceptAsMe();
            } else {
                $step = 'choose';
            }
            break;

        case 'login':
            $step = 'choose';
            $email = post('email');
            $password = post('password', true);
            if ($email !== '' || $password !== '') {
                $who = authenticate($email, $password);
                if ($who === null) {
                    $error = 'Wrong email or password.';
                    break;
                }
                log_in($who);
            } elseif (me() === null) {
                $error = 'Log in first: enter your email and password here, or log in in another window '
                    . 'of this browser, then press Login again.';
                break;
            }
            $acceptAsMe();
            break;

        case 'register':
            $step = 'choose';
            $name = post('name');
            $password = post('password', true);
            $error = login_problem($invited, $name, $password, post('password_confirm', true));
            if ($error !== null) {
                break;
            }
            $pdo = db();
            $pdo->beginTransaction();
            try {
                insert_login($invited, $name, $password);
                try {
                    $member = $c->acceptRegister($token, $invited, $name);
                } catch (CohortException $e) {
                    if ($e->getStatus() !== Status::USER_EXISTS) {
                        throw $e;
                    }
                    // Cohort knows this email (say an owner the panel never gave a password):
                    // the panel's login is new, Cohort's is not; accept as that login.
                    $c->upsertUser($invited, $name);
                    $member = $c->accept($token, $invited);
                }
                $pdo->commit();
            } catch (CohortException $e) {
                $pdo->rollBack();
                $error = refusal($e);
                break;
            } catch (\Throwable $e) {
                $pdo->rollBack();
                throw $e;
            }
            log_in($invited);
            $_SESSION['account'] = $member['account_id'];
            flash('ok', 'Welcome! Your login is ready and you now have access to ' . ($seen['account_name'] ?? $member['account_id']) . '.');
            redirect('/');

        default:
            throw new Http(400, 'Unknown action.', 'Invitation');
    }
}

$who = $inviterName !== '' ? "$inviterName ($inviter)" : $inviter;
$hidden = '<input type="hidden" name="token" value="' . h($token) . '">' . csrf_field();
ob_start();
?>
<section class="card" id="invitation">
<p class="lead"><strong><?= h($who) ?></strong> has invited <strong><?= h($invited) ?></strong> to help manage
the client account <strong><?= h((string) $seen['account_name']) ?></strong>.</p>
<dl class="facts">
<dt>Permissions</dt><dd><?= h(describe_permissions($seen['permissions'])) ?></dd>
<dt>Expires</dt><dd><?= h(fmt_time($seen['expires_at'])) ?></dd>
</dl>
<?php if ($error !== null) { ?><p class="flash error" role="alert"><?= h($error) ?></p><?php } ?>
<?php if ($mismatch !== null) { ?>
<p class="flash error" role="alert" id="mismatch">This invitation was sent to <?= h($invited) ?>, but you are logged in
as <?= h($mismatch) ?>. To accept it, log in as <strong><?= h($invited) ?></strong> (or register that address).
The invitation stays pending until then.</p>
<?php } ?>
<?php if ($step === 'intro') { ?>
<?php if (me() !== null) { ?><p>You are logged in as <?= h((string) me()) ?>.</p><?php } ?>
<form method="post" action="/accept">
<?= $hidden ?>
<input type="hidden" name="action" value="accept">
<button type="submit">Accept Invite</button>
</form>
<?php } ?>
</section>
<?php if ($step === 'choose') {
    $login = '<section class="card half" id="login">
<h2>Login</h2>
<p>Already have a login? Enter it here. Or log in in another window of this browser, come back and press Login.</p>
<form method="post" action="/accept">' . $hidden . '
<input type="hidden" name="action" value="login">
<label for="acc-login-email">Email Address</label>
<input type="email" name="email" id="acc-login-email" value="' . h($invited) . '" autocomplete="username">
<label for="acc-login-password">Password</label>
<input type="password" name="password" id="acc-login-password" autocomplete="current-password">
<button type="submit">Login</button>
</form>
</section>';
    $register = '<section class="card half" id="register">
<h2>Register</h2>
<p>New here? Create a login for ' . h($invited) . '.</p>
<form method="post" action="/accept">' . $hidden . '
<input type="hidden" name="action" value="register">
<label for="acc-reg-email">Email Address</label>
<input type="email" id="acc-reg-email" value="' . h($invited) . '" readonly>
<label for="acc-reg-name">Your Name</label>
<input type="text" name="name" id="acc-reg-name" autocomplete="name" maxlength="100">
<label for="acc-reg-password">Password</label>
<input type="password" name="password" id="acc-reg-password" autocomplete="new-password">
<label for="acc-reg-password2">Confirm Password</label>
<input type="password" name="password_confirm" id="acc-reg-password2" autocomplete="new-password">
<button type="submit">Register</button>
</form>
</section>';
    echo '<div class="columns">', $seen['has_login'] ? $login . $register : $register . $login, '</div>';
} ?>
<?php
render('You have been invited', (string) ob_get_clean(), $error === null && $mismatch === null ? 200 : 409);
