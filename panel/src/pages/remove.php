<?php

declare(strict_types=1);

// Remove Access (seed 000, "Revoking User Access"): a page that asks, then Confirm.

namespace Panel;

use Cohort\Exception\CohortException;

$acct = require_user_manager('Remove Access');
$id = $acct['account_id'];
$me = (string) me();
$c = cohort();
$email = normalize_email(is_post() ? post('email') : query('email'));
if (is_post()) {
    try {
        $c->revoke($me, $id, $email);
        flash('ok', "The access of $email to {$acct['account_name']} was removed. Their login remains.");
    } catch (CohortException $e) {
        flash('error', refusal($e));
    }
    redirect('/users');
}
require_member($acct, $email, 'Remove Access'); // a 404 for anyone else
ob_start();
?>
<section class="card narrow" id="remove">
<p>Remove the access of <strong><?= h($email) ?></strong> to <?= h($acct['account_name']) ?>?</p>
<p>They will no longer be able to affect this account or receive information about it. Their
login itself, and their access to other accounts, remain.</p>
<?= button_form('/users/remove', 'Confirm', ['email' => $email], 'danger') ?>
<a href="/users" class="button secondary">Back to User Management</a>
</section>
<?php
render('Remove Access', (string) ob_get_clean());
