<?php

declare(strict_types=1);

// Delete a contact: a page that asks, then Confirm.

namespace Panel;

use Cohort\Exception\CohortException;

$acct = require_account();
if (!can('contacts')) {
    throw new Http(403, 'You may not manage the contacts of ' . $acct['account_name'] . '.', 'Contacts');
}
$ct = own_contact((int) (is_post() ? post('id') : query('id')), $acct['account_id']);
$name = trim($ct['first_name'] . ' ' . ($ct['last_name'] ?? ''));
if (is_post()) {
    try {
        cohort()->deleteContact((string) me(), $ct['id']);
        flash('ok', "Contact $name deleted.");
    } catch (CohortException $e) {
        flash('error', refusal($e));
    }
    redirect('/contacts');
}
ob_start();
?>
<section class="card narrow" id="delete-contact">
<p>Delete the contact <strong><?= h($name) ?></strong> (<?= h($ct['email']) ?>)? They will no longer receive
this account's emails.</p>
<?= button_form('/contacts/delete', 'Confirm', ['id' => $ct['id']], 'danger') ?>
<a href="/contacts" class="button secondary">Back to Contacts</a>
</section>
<?php
render('Delete Contact', (string) ob_get_clean());
