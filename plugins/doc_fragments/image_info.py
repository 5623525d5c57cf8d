# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    """The options and attributes that ecr_public_image_info and ecr_image_info share."""

    DOCUMENTATION = r"""
options:
  repository_name:
    description: Name of the repository, without the registry alias.
    type: str
    required: true
  registry_id:
    description:
      - The AWS account ID of the registry. Defaults to the caller's registry.
      - DescribeImages accepts no ECR Public registry alias; with one, the caller's registry is read.
    type: str
  image_tags:
    description: Only images that carry at least one of these tags; RV(tags) lists only these tags.
    type: list
    elements: str
  image_digests:
    description: Only images with these digests.
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is no diff.
  idempotent:
    support: full
    description: Reads only.
"""
