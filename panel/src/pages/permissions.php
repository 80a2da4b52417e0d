<?php

declare(strict_types=1);

// Permissions of one member (seed 000, "Changing User Privileges"): tick and untick, Save Settings.

namespace Panel;

use Cohort\Exception\CohortException;

$acct = require_user_manager('Permissions');
$id = $acct['account_id'];
$me = (string) me();
$c = cohort();
$email = normalize_email(is_post() ? post('email') : query('email'));
$member = require_member($acct, $email, 'Permissions');
$error = null;
$current = $member['permissions'];
if (is_post()) {
    $current = posted_permissions();
    try {
        $c->setPermissions($me, $id, $email, $current);
        flash('ok', 'The permissions of ' . $email . ' were saved.');
        redirect('/users');
    } catch (CohortException $e) {
        $error = refusal($e);
    }
}
ob_start();
?>
<p><a href="/users">← Back to User Management</a></p>
<?php if ($error !== null) { ?><p class="flash error" role="alert"><?= h($error) ?></p><?php } ?>
<?php if ($member['role'] === 'owner') { ?>
<p class="notice">The owner of <?= h($acct['account_name']) ?> holds every permission.</p>
<?php } else { ?>
<p>What <strong><?= h($member['name'] !== '' ? $member['name'] : $email) ?></strong> (<?= h($email) ?>)
may do on <?= h($acct['account_name']) ?>:</p>
<form method="post" action="/users/permissions" class="card" id="permissions">
<?= csrf_field() ?>
<input type="hidden" name="email" value="<?= h($email) ?>">
<?= permission_fieldset($current) ?>
<button type="submit">Save Settings</button>
</form>
<?php } ?>
<?php
render('Permissions', (string) ob_get_clean(), $error === null ? 200 : 422);
