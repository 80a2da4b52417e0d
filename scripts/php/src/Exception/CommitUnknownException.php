<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The connection to the database server was lost while the change was being committed: it may
 * or may not have been made. Look (list the members, the pending invites) before repeating it.
 */
class CommitUnknownException extends StorageException
{
}
