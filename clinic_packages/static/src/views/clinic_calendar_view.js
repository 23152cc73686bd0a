/** @odoo-module **/
/*
 * The front desk's calendar (Clinic → Appointments, My Day): Odoo's calendar view whose
 * quick-create dialog (patient, service, practitioner) reloads the calendar once the visit is
 * booked, so the new visit shows at once.
 */

import { registry } from "@web/core/registry";
import { calendarView } from "@web/views/calendar/calendar_view";
import { CalendarController } from "@web/views/calendar/calendar_controller";

export class ClinicCalendarController extends CalendarController {
    getQuickCreateFormViewProps(record) {
        return {
            ...super.getQuickCreateFormViewProps(record),
            onRecordSaved: () => this.model.load(),
        };
    }
}

registry.category("views").add("clinic_calendar", {
    ...calendarView,
    Controller: ClinicCalendarController,
});
