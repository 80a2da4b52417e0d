<?php

declare(strict_types=1);

// Register: a new login and a client account of its own, owned by it. (Registering through an
// invite link happens on the accept page instead and joins the inviting account.)

namespace Panel;

$error = null;
$f = ['name' => '', 'email' => '', 'company' => ''];
if (is_post()) {
    $f = ['name' => post('name'), 'email' => normalize_email(post('email')), 'company' => post('company')];
    $error = login_problem($f['email'], $f['name'], post('password', true), post('password_confirm', true));
    if ($error === null) {
        $company = $f['company'] !== '' ? $f['company'] : $f['name'];
        $pdo = db();
        $pdo->beginTransaction();
        try {
            insert_login($f['email'], $f['name'], post('password', true));
            $pdo->prepare('INSERT INTO clients (name, created_at) VALUES (?, ?)')->execute([$company, time()]);
            $accountId = (string) $pdo->lastInsertId();
            cohort()->upsertUser($f['email'], $f['name']);
            cohort()->upsertAccount($accountId, $company, $f['email']);
            $pdo->commit();
        } catch (\Cohort\Exception\CohortException $e) {
            $pdo->rollBack();
            $error = refusal($e);
        } catch (\Throwable $e) {
            $pdo->rollBack();
            throw $e;
        }
        if ($error === null) {
            log_in($f['email']);
            $_SESSION['account'] = $accountId;
            flash('ok', "Welcome! Your client account \"$company\" is ready.");
            redirect('/');
        }
    }
} elseif (me() !== null) {
    redirect('/');
}
ob_start();
?>
<?php if ($error !== null) { ?><p class="flash error" role="alert"><?= h($error) ?></p><?php } ?>
<form method="post" action="/register" class="card narrow">
<?= csrf_field() ?>
<label for="reg-name">Your Name</label>
<input type="text" name="name" id="reg-name" value="<?= h($f['name']) ?>" autocomplete="name" required maxlength="100">
<label for="reg-email">Email Address</label>
<input type="email" name="email" id="reg-email" value="<?= h($f['email']) ?>" autocomplete="email" required>
<label for="reg-company">Company Name (optional)</label>
<input type="text" name="company" id="reg-company" value="<?= h($f['company']) ?>" autocomplete="organization" maxlength="100">
<label for="reg-password">Password</label>
<input type="password" name="password" id="reg-password" autocomplete="new-password" required minlength="<?= MIN_PASSWORD ?>">
<label for="reg-password2">Confirm Password</label>
<input type="password" name="password_confirm" id="reg-password2" autocomplete="new-password" required minlength="<?= MIN_PASSWORD ?>">
<button type="submit">Register</button>
</form>
<p>Invited to an account? Open the link in the invitation email instead. Have a login? <a href="/login">Login</a></p>
<?php
render('Register', (string) ob_get_clean(), $error === null ? 200 : 422);
