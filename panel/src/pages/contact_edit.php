<?php

declare(strict_types=1);

// One contact: edit it ("Update Contact"), or invite it as a user of the account with chosen
// permissions (Cohort's invite: access always goes through a login).

namespace Panel;

use Cohort\Exception\CohortException;

$acct = require_account();
$me = (string) me();
if (!can('contacts')) {
    throw new Http(403, 'You may not manage the contacts of ' . $acct['account_name'] . '.', 'Contacts');
}
$c = cohort();
$ct = own_contact((int) (is_post() ? post('id') : query('id')), $acct['account_id']);
$f = contact_fields_of($ct);
$error = null;
if (is_post()) {
    try {
        if (post('action') === 'invite') {
            $issued = $c->invite($me, $acct['account_id'], $ct['email'], posted_permissions(), posted_ttl());
            flash(...mail_invite($issued));
            redirect('/users');
        }
        $f = contact_fields_posted();
        $c->updateContact($me, $ct['id'], $f);
        flash('ok', 'Contact ' . trim($f['first_name'] . ' ' . $f['last_name']) . ' updated.');
        redirect('/contacts');
    } catch (CohortException $e) {
        $error = refusal($e);
    }
}
ob_start();
?>
<p><a href="/contacts">← Back to Contacts</a></p>
<?php if ($error !== null) { ?><p class="flash error" role="alert"><?= h($error) ?></p><?php } ?>
<form method="post" action="/contacts/edit" class="card" id="edit-contact">
<?= csrf_field() ?>
<input type="hidden" name="id" value="<?= (int) $ct['id'] ?>">
<?= contact_form_fields($f, 'edit') ?>
<button type="submit">Update Contact</button>
</form>

<h2>Invite as User</h2>
<form method="post" action="/contacts/edit" class="card" id="invite-contact">
<?= csrf_field() ?>
<input type="hidden" name="id" value="<?= (int) $ct['id'] ?>">
<input type="hidden" name="action" value="invite">
<p>Give <?= h(trim($ct['first_name'] . ' ' . ($ct['last_name'] ?? ''))) ?> access to <?= h($acct['account_name']) ?>:
an invitation goes to <?= h($ct['email']) ?>, who logs in or registers to accept it.</p>
<?= permission_fieldset([]) ?>
<label for="contact-ttl">Link valid for</label>
<select name="ttl" id="contact-ttl">
<?php foreach (ttl_choices() as $seconds => $words) { ?>
<option value="<?= (int) $seconds ?>"><?= h($words) ?></option>
<?php } ?>
</select>
<button type="submit">Send Invite</button>
</form>
<?php
render('Edit Contact', (string) ob_get_clean(), $error === null ? 200 : 422);
